#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tmsclient developers
# MIT License (see LICENSE in the tmsclient repository)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: webex_settings_info
short_description: Read a Cisco TMS's WebEx settings and each site's SSO certificate
description:
  - Read-only. Logs in to TMS once and reports what C(tmsclient show) and C(tmsclient status) report, for every
    WebEx site or only O(site) - the WebEx Configuration settings, each site's fields (never a password's
    value), the stored certificate's subject, thumbprint and expiry where TMS shows them, and the days left.
  - Nothing is saved; the module runs the same in check mode.
version_added: 0.1.0
author: tmsclient developers (@tmsclient)
extends_documentation_fragment:
  - tmsclient.tms.target
options:
  site:
    description:
      - Only this WebEx site (host name, site name or site URL).
    type: str
attributes:
  check_mode:
    description: Read-only, so it runs unchanged in check mode.
    support: full
  diff_mode:
    description: Nothing to diff.
    support: none
"""

EXAMPLES = r"""
- name: What each TMS shows
  tmsclient.tms.webex_settings_info:
    url: "{{ tms_url }}"
    username: 'EXAMPLE\svc-tms'
    password: "{{ vault_tms_password }}"
  register: tms_info

- name: Fail when a certificate expires within 30 days
  ansible.builtin.assert:
    that: item.days_left is none or item.days_left >= 30
    fail_msg: "{{ item.host_name }}: {{ item.days_left }} days left"
  loop: "{{ tms_info.tms.sites }}"
"""

RETURN = r"""
tms:
  description: What TMS shows.
  returned: success
  type: dict
  contains:
    url:
      description: The TMS base URL.
      type: str
      sample: https://tms.example.com/tms/
    settings_page:
      description: The WebEx Settings page that was read.
      type: str
      sample: https://tms.example.com/tms/default.aspx?pageId=83
    global_settings:
      description: The WebEx Configuration settings (key, label, value).
      type: list
      elements: dict
      sample: []
    sites:
      description:
        - One entry per site - host_name, site_name, default, fields (key, label, name, type, value, secret),
          subject, thumbprint, expires_shown (as TMS shows it), expires (ISO 8601 UTC), days_left,
          certificate_installed and verification_possible (C(certificate) or C(fields-only)).
      type: list
      elements: dict
      sample: []
    checked_at:
      description: When the check ran (ISO 8601 UTC).
      type: str
      sample: "2026-12-02T06:00:00Z"
    requests:
      description: HTTP requests sent to TMS.
      type: int
      sample: 5
code:
  description: tmsclient's name of the failure (for example C(AUTH), C(SITE_NOT_FOUND)).
  returned: failure
  type: str
  sample: AUTH
exit_code:
  description: The exit code tmsclient's command line gives this failure.
  returned: failure
  type: int
  sample: 10
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tmsclient.tms.plugins.module_utils.tms_common import (
    TARGET_ARGS,
    api,
    require_tmsclient,
    run_or_fail,
    target_of,
)


def main():
    argument_spec = dict(TARGET_ARGS)
    argument_spec.update(site=dict(type="str"))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_tmsclient(module)
    info = run_or_fail(module, api.read_info, target_of(module.params), site=module.params["site"])
    module.exit_json(changed=False, tms=info.to_json())


if __name__ == "__main__":
    main()
