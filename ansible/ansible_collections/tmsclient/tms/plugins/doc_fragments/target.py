# -*- coding: utf-8 -*-
# Copyright: tmsclient developers
# MIT License (see LICENSE in the tmsclient repository)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The TMS target options every module of the collection takes.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - TMS base URL, for example C(https://tms.example.com/tms/); a host alone means C(https://HOST/tms/).
    type: str
    required: true
  username:
    description:
      - Windows account that logs in to TMS, as C(DOMAIN\\user), C(user@domain) or C(user).
      - Required unless O(auth=negotiate).
    type: str
  password:
    description:
      - Password of O(username). Never logged or shown.
      - Required unless O(auth=negotiate).
    type: str
  auth:
    description:
      - Login scheme; C(auto) reads the server's first 401 answer.
    type: str
    default: auto
    choices: [auto, ntlm, negotiate, basic]
  ca_bundle:
    description:
      - PEM file (or c_rehash directory) of the CAs to trust for the TMS certificate.
    type: path
  validate_certs:
    description:
      - Verify the TMS TLS certificate. Set to V(false) for a lab only.
    type: bool
    default: true
  allow_http:
    description:
      - Allow a plain C(http://) URL (the password and the .pfx then cross the network unprotected).
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for TMS on each page read (tmsclient's default when not given).
    type: float
  upload_timeout:
    description:
      - Seconds to wait for TMS to answer the Save that carries the .pfx.
    type: float
  page_profile:
    description:
      - Page-profile file overriding the built-in TMS 15.x labels (written by C(tmsclient discover)).
    type: path
  page_url:
    description:
      - The WebEx Settings page URL, skipping the menu walk (absolute or relative to O(url)).
    type: str
requirements:
  - tmsclient (the Python package, installed for the Python that runs the module)
notes:
  - The module talks to TMS from where it runs; use C(connection=local) (or C(delegate_to)) with one inventory
    host per TMS server.
  - Settings are taken from the module's options only, never from the environment or a tmsclient config file.
"""
