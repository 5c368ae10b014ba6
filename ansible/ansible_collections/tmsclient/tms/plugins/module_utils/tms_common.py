# -*- coding: utf-8 -*-
# Copyright: tmsclient developers
# MIT License (see LICENSE in the tmsclient repository)
"""What the modules share: the TMS target and certificate-source options, the tmsclient import, and failures in tmsclient's words."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    from tmsclient import api
    from tmsclient.errors import TmsClientError
except ImportError:
    HAS_TMSCLIENT = False
    TMSCLIENT_IMPORT_ERROR = traceback.format_exc()
    api = None
    TmsClientError = None
else:
    HAS_TMSCLIENT = True
    TMSCLIENT_IMPORT_ERROR = None

TARGET_ARGS = dict(
    url=dict(type="str", required=True),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    auth=dict(type="str", default="auto", choices=["auto", "ntlm", "negotiate", "basic"]),
    ca_bundle=dict(type="path"),
    validate_certs=dict(type="bool", default=True),
    allow_http=dict(type="bool", default=False),
    timeout=dict(type="float"),
    upload_timeout=dict(type="float"),
    page_profile=dict(type="path"),
    page_url=dict(type="str"),
)

#: The certificate-source options (documented by the tmsclient.tms.certificate fragment)
CERT_ARGS = dict(
    pfx=dict(type="path"),
    pfx_password=dict(type="str", no_log=True),
    cert=dict(type="path"),
    key=dict(type="path", no_log=False),
    chain=dict(type="list", elements="path", default=[]),
    key_passphrase=dict(type="str", no_log=True),
    target_os=dict(type="str", choices=["2012r2", "2016", "2019", "2022"]),
)

#: tmsclient's exit code of an internal error (a bug)
INTERNAL_EXIT_CODE = 70


def require_tmsclient(module):
    if not HAS_TMSCLIENT:
        module.fail_json(msg=missing_required_lib("tmsclient"), exception=TMSCLIENT_IMPORT_ERROR)


def target_of(params, target_os=None):
    """The tmsclient target the module's options name."""
    return api.Target(
        url=params["url"],
        username=params["username"],
        password=params["password"],
        auth=params["auth"],
        ca_bundle=params["ca_bundle"],
        validate_certs=params["validate_certs"],
        allow_http=params["allow_http"],
        timeout=params["timeout"],
        upload_timeout=params["upload_timeout"],
        page_profile=params["page_profile"],
        page_url=params["page_url"],
        target_os=target_os,
    )


def run_or_fail(module, call, *args, **kwargs):
    """``call(*args, **kwargs)``; a tmsclient failure fails the task with its message, code and exit code."""
    try:
        return call(*args, **kwargs)
    except TmsClientError as err:
        module.fail_json(
            msg=err.message,
            code=err.exit_code.name,
            exit_code=int(err.exit_code),
            hint=err.hint,
            details=list(err.details),
        )
    except Exception as exc:  # a bug in tmsclient: named by type only, its text may hold page content
        module.fail_json(
            msg="tmsclient internal error: %s" % type(exc).__name__,
            code="INTERNAL",
            exit_code=INTERNAL_EXIT_CODE,
            hint="rerun `tmsclient` by hand with -vv for details and report it as a bug",
        )
