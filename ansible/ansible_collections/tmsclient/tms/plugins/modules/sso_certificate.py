#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tmsclient developers
# MIT License (see LICENSE in the tmsclient repository)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sso_certificate
short_description: Make a WebEx site's SSO certificate on Cisco TMS the given one
description:
  - Logs in to TMS, opens the WebEx site's form under Administrative Tools > Configuration > WebEx Settings,
    uploads the certificate and its password, saves once, re-reads the form and verifies what TMS shows.
  - Idempotent. When TMS already shows the certificate's thumbprint (and the asked-for SSO fields), nothing is
    saved and the task is V(ok).
  - The .pfx is checked first by tmsclient's preflight for O(target_os); an unfit file fails before any login.
  - Each task run is one upload to one TMS with its own session and credentials; the play's C(serial),
    C(max_fail_percentage) and C(any_errors_fatal) stage a rollout across a fleet.
version_added: 0.1.0
author: tmsclient developers (@tmsclient)
extends_documentation_fragment:
  - tmsclient.tms.target
  - tmsclient.tms.certificate
options:
  site:
    description:
      - The WebEx site, as TMS lists it; host name, site name or site URL.
    type: str
    required: true
  preflight:
    description:
      - Refuse a file tmsclient's preflight finds unfit. V(false) uploads it anyway (TMS then judges it).
    type: bool
    default: true
  require_certificate:
    description:
      - Fail unless TMS shows the stored certificate's thumbprint or expiry, so that the upload is verified at
        certificate level rather than by its fields alone. Not judged in check mode.
    type: bool
    default: false
  reupload:
    description:
      - Upload even when TMS already shows this certificate.
    type: bool
    default: false
  enable_sso:
    description:
      - Set Use Single Sign On to Yes.
    type: bool
    default: false
  partner_name:
    description:
      - Set SSO Partner Name.
    type: str
  account_name:
    description:
      - Set SSO Account Name.
    type: str
  authn_context:
    description:
      - Set SSO AuthnContextClassRef.
    type: str
attributes:
  check_mode:
    description: Check mode is tmsclient's dry run; it logs in, reads the site and reports what would change.
    support: full
  diff_mode:
    description: Shows the redacted plan, one line per field (C(field) then its value before and after).
    support: full
"""

EXAMPLES = r"""
- name: Renew the SSO certificate, one TMS at a time
  hosts: tms_servers
  connection: local
  gather_facts: false
  serial: 1
  tasks:
    - name: Make the site's certificate the renewed one
      tmsclient.tms.sso_certificate:
        url: "{{ tms_url }}"
        username: 'EXAMPLE\svc-tms'
        password: "{{ vault_tms_password }}"
        ca_bundle: files/example-internal-ca.pem
        site: "{{ tms_site }}"
        pfx: files/tms-cert-key.p12
        pfx_password: "{{ vault_pfx_password }}"
        require_certificate: true

- name: From PEM files (a .pfx is built in memory)
  tmsclient.tms.sso_certificate:
    url: https://tms.example.com/tms/
    username: 'EXAMPLE\svc-tms'
    password: "{{ vault_tms_password }}"
    site: example.webex.com
    cert: files/cert.pem
    key: files/key.pem
    chain: [files/chain.pem]
"""

RETURN = r"""
action:
  description: C(uploaded), C(unchanged), or C(dry-run) in check mode.
  returned: success
  type: str
  sample: uploaded
site:
  description: The site as TMS lists it.
  returned: success
  type: dict
  sample: {"host_name": "example.webex.com", "site_name": "example"}
subject:
  description: Subject of the certificate.
  returned: success
  type: str
  sample: CN=tms.example.com
thumbprint_sha1:
  description: SHA-1 thumbprint of the certificate, as Windows shows it.
  returned: success
  type: str
  sample: 0123456789ABCDEF0123456789ABCDEF01234567
serial:
  description: Serial number of the certificate.
  returned: success
  type: str
  sample: "1234567890"
not_after:
  description: Expiry of the certificate (ISO 8601, UTC).
  returned: success
  type: str
  sample: "2027-06-30T12:00:00Z"
verification:
  description: How far the re-read could check; C(certificate) or C(fields-only); null in check mode.
  returned: success
  type: str
  sample: certificate
changes:
  description: The fields the Save changed (or would change in check mode), redacted.
  returned: success
  type: list
  elements: dict
  sample: [{"field": "sso_certificate", "label": "SSO Certificate", "before": "(empty)", "after": "<file tms.pfx, 2485 bytes>"}]
tms_message:
  description: What TMS said after the Save, if anything.
  returned: success
  type: str
  sample: Settings saved
requests:
  description: HTTP requests sent to TMS.
  returned: success
  type: int
  sample: 8
code:
  description: tmsclient's name of the failure (for example C(AUTH), C(CERT_UNFIT), C(VERIFY_FAILED)).
  returned: failure
  type: str
  sample: AUTH
exit_code:
  description: The exit code tmsclient's command line gives this failure.
  returned: failure
  type: int
  sample: 10
hint:
  description: How to fix the failure, when tmsclient knows.
  returned: failure
  type: str
  sample: check the user name and password
details:
  description: Detail lines of the failure.
  returned: failure
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tmsclient.tms.plugins.module_utils.tms_common import (
    CERT_ARGS,
    TARGET_ARGS,
    api,
    require_tmsclient,
    run_or_fail,
    target_of,
)


def main():
    argument_spec = dict(TARGET_ARGS, **CERT_ARGS)
    argument_spec.update(
        site=dict(type="str", required=True),
        preflight=dict(type="bool", default=True),
        require_certificate=dict(type="bool", default=False),
        reupload=dict(type="bool", default=False),
        enable_sso=dict(type="bool", default=False),
        partner_name=dict(type="str"),
        account_name=dict(type="str"),
        authn_context=dict(type="str"),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("pfx", "cert")],
        required_one_of=[("pfx", "cert")],
        required_by={"pfx": "pfx_password", "key_passphrase": "cert"},
    )
    require_tmsclient(module)
    p = module.params
    certificate = api.CertificateSource(
        pfx=p["pfx"],
        pfx_password=p["pfx_password"],
        cert=p["cert"],
        key=p["key"],
        chain=tuple(p["chain"]),
        key_passphrase=p["key_passphrase"],
    )
    result = run_or_fail(
        module,
        api.ensure_certificate,
        target_of(p, p["target_os"]),
        certificate,
        p["site"],
        dry_run=module.check_mode,
        require_certificate=p["require_certificate"] and not module.check_mode,
        reupload=p["reupload"],
        preflight=p["preflight"],
        enable_sso=p["enable_sso"],
        partner_name=p["partner_name"],
        account_name=p["account_name"],
        authn_context=p["authn_context"],
    )
    for warning in result.warnings:
        module.warn(warning)
    report = result.to_json()
    out = dict(
        changed=result.changed,
        action=result.action,
        site=dict(host_name=result.host_name, site_name=result.site_name),
        subject=result.subject,
        thumbprint_sha1=result.thumbprint_sha1,
        serial=result.serial,
        not_after=result.not_after,
        verification=result.verification,
        changes=report["changes"],
        tms_message=result.tms_message,
        requests=result.requests,
    )
    if module._diff and result.changes:
        before, after = api.changes_text(result.changes)
        where = "site %s/%s" % (result.host_name, result.site_name)
        out["diff"] = dict(before=before, after=after, before_header=where + " (TMS now)", after_header=where)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
