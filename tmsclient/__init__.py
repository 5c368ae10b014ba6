"""tmsclient: renew the WebEx SSO certificate on Cisco TMS 15.x from one command."""

__version__ = "0.1.0"
