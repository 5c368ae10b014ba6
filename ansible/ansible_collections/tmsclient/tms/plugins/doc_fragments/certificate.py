# -*- coding: utf-8 -*-
# Copyright: tmsclient developers
# MIT License (see LICENSE in the tmsclient repository)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The certificate-source options of the modules that upload a certificate (CERT_ARGS in tms_common).
    DOCUMENTATION = r"""
options:
  pfx:
    description:
      - The PKCS#12 file (.pfx/.p12) to upload. Mutually exclusive with O(cert).
    type: path
  pfx_password:
    description:
      - Password of O(pfx). Never logged or shown.
    type: str
  cert:
    description:
      - PEM file of the certificate (it may hold the chain and the key too). The module builds a
        Windows-compatible .pfx in memory with a generated password. Mutually exclusive with O(pfx).
    type: path
  key:
    description:
      - PEM file of the private key of O(cert), when O(cert) does not hold it.
    type: path
  chain:
    description:
      - PEM files of the intermediate certificates of O(cert).
    type: list
    elements: path
    default: []
  key_passphrase:
    description:
      - Passphrase of an encrypted O(key). Never logged or shown.
    type: str
  target_os:
    description:
      - Windows Server version of the TMS host, for the preflight (tmsclient's default is 2016).
    type: str
    choices: ['2012r2', '2016', '2019', '2022']
"""
