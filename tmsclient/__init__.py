"""tmsclient: renew the WebEx SSO certificate on Cisco TMS 15.x from one command.

The command line is the interface: ``tmsclient`` (or ``python -m tmsclient``), its exit codes and its ``--json``
reports. The modules of this package are not a public API and change without notice.
"""

__version__ = "0.1.0"
